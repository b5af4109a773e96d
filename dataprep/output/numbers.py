"""Money and numbers as every output shows them: one place, so a report, the terminal and the
TUI never print the same figure two ways.

Cost figures are estimates; a model without a published price has no dollar figure at all
(never a $0.00 that reads as free).
"""

from __future__ import annotations

NO_PRICE = "no published price"


def dollars(x: float | None, *, sign: str = "$", none: str = NO_PRICE, cents_from: float = 0.01) -> str:
    """``$1,234.57``; amounts under ``cents_from`` (a cent) keep four decimals (``$0.0042``), so a
    small estimate never reads as $0.00; ``none`` when there is no price."""
    if x is None:
        return none
    return f"{sign}{x:,.2f}" if x >= cents_from or x == 0 else f"{sign}{x:,.4f}"


def hours(h: float) -> str:
    """GPU-hours: ``1,234.50``; a positive figure under 0.01 is ``< 0.01``, never ``0.00``."""
    return "< 0.01" if 0 < h < 0.01 else f"{h:,.2f}"


def gpu_hours(h: float) -> str:
    """An estimate's GPU-hours for examples that exist: a 0 there is a small figure rounded away
    upstream (the reports keep three decimals), never free training, so it reads ``< 0.01`` too."""
    return "< 0.01" if h < 0.01 else hours(h)


def count(n: int) -> str:
    """A whole count with thousands separators: ``12,345``."""
    return f"{n:,}"


def percent(share: float, digits: int = 1) -> str:
    """A share 0..1 as a percentage: ``12.5%``."""
    return f"{share:.{digits}%}"


def mib(n_bytes: int | None, *, none: str = "size unknown") -> str:
    """A byte size in MiB with one decimal."""
    return none if n_bytes is None else f"{n_bytes / 2**20:.1f} MiB"
