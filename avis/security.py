"""Protections every request gets."""

from __future__ import annotations

from flask_wtf.csrf import CSRFProtect

#: CSRF tokens on every POST, except the views exempted where they are defined (the
#: provider webhook, RFC 8058 one-click unsubscribe): those carry no browser session.
csrf = CSRFProtect()
