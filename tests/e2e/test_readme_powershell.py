"""The README's PowerShell requests («Sin /docs: con curl»), sent as Invoke-RestMethod sends
them (its content type, the body as UTF-8), get the answers the curl block promises."""

import re

import httpx

from tests.helpers import make_cluster
from tests.unit.test_readme_windows import paired, powershell_call, read


def test_powershell_requests_work_against_a_cluster(tmp_path, http: httpx.Client):
    """User, item «Lápiz», order with its key, stock 8, cancel: each answered 2xx, in order."""
    section = read("README.md").split("### Sin /docs: con curl", 1)[1].split("\n### ", 1)[0]
    [(_bash, powershell)] = paired(section)
    [content_type] = re.findall(r'^\$json = "([^"]+)"', powershell.text, re.M)
    cluster = make_cluster(tmp_path)
    cluster.start()
    try:
        ports = {"8080": cluster.url("gateway"), "8003": cluster.url("orders")}
        answers = []
        for line in powershell.commands():
            if not line.startswith("Invoke-RestMethod"):
                continue
            call = powershell_call(line)
            host, path = call.url.split("/", 1)
            url = f"{ports[host.rsplit(':', 1)[1]]}/{path}"
            headers = dict(call.headers)
            content = None
            if call.body is not None:
                headers["Content-Type"] = content_type
                body = re.search(r"-Body '([^']*)'", line).group(1)
                content = body.encode("utf-8")
            answers.append(http.request(call.method, url, headers=headers, content=content))
    finally:
        cluster.stop()
    assert [a.status_code for a in answers] == [201, 201, 201, 200, 200, 200], [
        a.text for a in answers
    ]
    assert answers[1].json()["name"] == "Lápiz"
    assert answers[3].json()["stock"] == 8
    assert answers[4].json()["status"] == "CANCELLED"
