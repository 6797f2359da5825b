"""Imports every domain's tables so that Base.metadata knows them all (Alembic, tests)."""

from postvak.addresses import models as addresses  # noqa: F401
from postvak.attachments import models as attachments  # noqa: F401
from postvak.auth import models as auth  # noqa: F401
from postvak.citizens import models as citizens  # noqa: F401
from postvak.db import Base
from postvak.inbox import models as inbox  # noqa: F401
from postvak.jobs import models as jobs  # noqa: F401
from postvak.messages import models as messages  # noqa: F401
from postvak.notifications import models as notifications  # noqa: F401
from postvak.printing import models as printing  # noqa: F401
from postvak.senders import models as senders  # noqa: F401
from postvak.webhooks import models as webhooks  # noqa: F401

metadata = Base.metadata
