"""The table of the address register: one postal address per BSN."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from postvak.db import Base
from postvak.kit.sqltypes import UtcDateTime


class Address(Base):
    """Where a citizen gets paper post, as loaded from the population register's extract.

    Personal data: it is read only to print a message, and never logged.
    """

    __tablename__ = "addresses"

    bsn: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    street: Mapped[str] = mapped_column(String(100))
    house_number: Mapped[str] = mapped_column(String(20))
    postal_code: Mapped[str] = mapped_column(String(7))  # "1234 AB"
    city: Mapped[str] = mapped_column(String(80))
    municipality_code: Mapped[str | None] = mapped_column(String(6))  # CBS code, "GM0344"
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def __repr__(self) -> str:  # never the BSN or the address, not even in a failing assertion
        return "Address(…)"
