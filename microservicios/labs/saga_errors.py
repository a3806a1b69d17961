"""The outcomes the saga of lab 5 has to handle (imported by the student's file)."""


class NoStockError(Exception):
    """items answered "no" (unknown SKU or not enough stock): nothing was reserved."""


class UnavailableError(Exception):
    """items did not answer: the reservation may, or may not, have been applied."""


class StoreError(Exception):
    """The order could not be saved in the orders database."""
