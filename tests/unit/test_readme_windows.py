"""A Windows student is never left with a bash-only command: next to each one the README
gives a PowerShell form that says the same (same requests, same bodies, same commands)."""

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT

DOCUMENTS = ("README.md", "labs/README.md", "notebooks/README.md")
WINDOWS_KILL = ("taskkill /F /PID", "Stop-Process -Id")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown document."""

    language: str
    text: str

    def commands(self) -> list[str]:
        """Its command lines, a bash `\\` continuation joined, comments and blanks left out."""
        joined = self.text.replace("\\\n", " ")
        lines = [line.split("  #", 1)[0].strip() for line in joined.splitlines()]
        return [line for line in lines if line and not line.startswith("#")]


def blocks(document: str) -> list[Block]:
    return [Block(lang, text) for lang, text in re.findall(r"```(\w*)\n(.*?)```", document, re.S)]


def prose(document: str) -> list[str]:
    """The paragraphs outside code blocks."""
    outside = re.sub(r"```.*?```", "\n\n", document, flags=re.S)
    return [paragraph for paragraph in outside.split("\n\n") if paragraph.strip()]


def bash_only(block: Block) -> bool:
    """A block that PowerShell and cmd cannot run as written."""
    text = block.text
    continued = any(line.rstrip().endswith("\\") for line in text.splitlines())
    curl_body = re.search(r"^\s*curl .*-d '", text.replace("\\\n", " "), re.M) is not None
    return block.language in ("bash", "sh", "") and (continued or curl_body or "kill -9" in text)


def read(name: str) -> str:
    return (REPO_ROOT / name).read_text(encoding="utf-8")


def paired(document: str) -> list[tuple[Block, Block | None]]:
    """Each bash-only block with the block right after it (None if it is the last)."""
    found = blocks(document)
    return [
        (block, found[i + 1] if i + 1 < len(found) else None)
        for i, block in enumerate(found)
        if bash_only(block)
    ]


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_bash_only_block_is_followed_by_its_powershell_form(name):
    """Line continuations, curl with a JSON body, kill -9: the next block is PowerShell."""
    for block, following in paired(read(name)):
        assert following is not None and following.language == "powershell", block.text


@pytest.mark.parametrize("name", DOCUMENTS)
def test_powershell_blocks_have_no_bash_syntax(name):
    """No `\\` continuation, no curl (an alias of Invoke-WebRequest in Windows PowerShell),
    no `VAR=value command`, and every -Body is valid JSON."""
    for block in blocks(read(name)):
        if block.language != "powershell":
            continue
        for line in block.commands():
            assert not line.endswith("\\"), line
            assert not re.match(r"curl\b", line), line
            assert not re.match(r"[A-Z_]+=\S+ ", line), line
        for body in re.findall(r"-Body '([^']*)'", block.text):
            json.loads(body)


@dataclass(frozen=True)
class Call:
    """One HTTP request a command makes, whatever the tool."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: object


def curl_call(line: str) -> Call:
    words = shlex.split(line)
    method, headers, body, url = "GET", [], None, ""
    for flag, value in zip(words, [*words[1:], ""], strict=True):
        if flag == "-X":
            method = value
        elif flag == "-H" and not value.lower().startswith("content-type"):
            headers.append(tuple(part.strip() for part in value.split(":", 1)))
        elif flag == "-d":
            body = json.loads(value)
    url = next(w for w in words[1:] if re.match(r"(localhost|127\.0\.0\.1):\d+", w))
    return Call(method, url.replace("localhost", "127.0.0.1"), tuple(headers), body)


def powershell_call(line: str) -> Call:
    method = re.search(r"-Method (\w+)", line)
    url = re.search(r"http://(\S+)", line).group(1)
    headers = tuple(re.findall(r"'([\w-]+)' = '([^']*)'", line))
    body = re.search(r"-Body '([^']*)'", line)
    return Call(
        method.group(1).upper() if method else "GET",
        url,
        headers,
        json.loads(body.group(1)) if body else None,
    )


def test_curl_examples_and_their_powershell_form_make_the_same_requests():
    """«Sin /docs: con curl»: one Invoke-RestMethod per curl, same method, URL, headers, body;
    bodies sent as UTF-8 («Lápiz» arrives as written)."""
    section = read("README.md").split("### Sin /docs: con curl", 1)[1].split("\n### ", 1)[0]
    [(bash, powershell)] = paired(section)
    curls = [curl_call(line) for line in bash.commands() if line.startswith("curl")]
    invokes = [
        powershell_call(line)
        for line in powershell.commands()
        if line.startswith("Invoke-RestMethod")
    ]
    assert curls and invokes == curls
    assert "charset=utf-8" in powershell.text


def test_schemathesis_commands_have_the_same_powershell_form():
    """The contract block's PowerShell commands are the bash ones, word for word, and the
    secret is set the PowerShell way."""
    section = read("README.md").split("**prueba de contrato**", 1)[1]
    [(bash, powershell)] = paired(section.split("## Arquitectura", 1)[0])

    def runs(block: Block) -> list[list[str]]:
        return [shlex.split(c) for c in block.commands() if c.startswith("schemathesis run")]

    assert runs(bash) and runs(powershell) == runs(bash)
    assert '$env:SERVICE_SECRET = "mi-secreto-de-prueba"' in powershell.text


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_kill_9_has_its_windows_counterpart(name):
    """A paragraph that says `kill -9` also says how to do it on Windows."""
    for paragraph in prose(read(name)):
        if "kill -9" in paragraph:
            assert all(form in paragraph for form in WINDOWS_KILL), paragraph


def test_environment_variables_for_notebooks_have_their_windows_form():
    """notebooks/README.md's MICROSERVICIOS_PORTS=auto, also for PowerShell and cmd."""
    text = read("notebooks/README.md")
    assert "MICROSERVICIOS_PORTS=auto" in text
    assert '$env:MICROSERVICIOS_PORTS = "auto"' in text
    assert "set MICROSERVICIOS_PORTS=auto" in text


def test_readme_documents_are_found():
    """The documents this file reads exist (a renamed one would make the checks vacuous)."""
    assert all(Path(REPO_ROOT / name).is_file() for name in DOCUMENTS)
    assert any(bash_only(block) for block in blocks(read("README.md")))


def test_python_alternative_to_curl_is_one_valid_command_for_any_shell():
    """«Sin /docs: con curl» also gives a `python -c` line: double quotes outside (cmd and
    PowerShell pass them as one argument), valid Python inside, the same request as a curl."""
    section = read("README.md").split("### Sin /docs: con curl", 1)[1].split("\n### ", 1)[0]
    [line] = [c for b in blocks(section) for c in b.commands() if c.startswith("python -c")]
    [code] = re.findall(r'^python -c "([^"]*)"$', line)
    compile(code, "<README>", "exec")
    assert "httpx.post('http://127.0.0.1:8080/users/', json={'name': 'Ana'" in code
