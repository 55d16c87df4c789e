"""Logging that keeps tokens out of access logs.

The survey, unsubscribe and account links carry a token, a credential: the development
server (werkzeug) and gunicorn would write it in every access-log line, and Flask in the
"Exception on <path>" line of every error 500.
"""

from __future__ import annotations

import logging
import re

#: A token in a path of ours: ``/q/<token>``, ``/unsubscribe/<token>``,
#: ``/login/lien/<token>`` (account activation and password reset).
_TOKEN_IN_PATH = re.compile(r"(/(?:q|unsubscribe|login/lien)/)[A-Za-z0-9_\-]{16,}")
#: The loggers that write request lines.
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")
#: Flask's logger for the application (named after its package): it writes the path of
#: a request that failed.
APP_LOGGER = "avis"


def redact(text: str) -> str:
    return _TOKEN_IN_PATH.sub(r"\1…", text)


class RedactTokens(logging.Filter):
    """Rewrites a record's message with tokens replaced by an ellipsis."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install() -> None:
    """Attach the filter to the access loggers and the application's (once per process)."""
    for name in (*ACCESS_LOGGERS, APP_LOGGER):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
