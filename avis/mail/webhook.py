"""The SendGrid signed event webhook.

SendGrid signs ``timestamp + body`` with ECDSA P-256. A request is accepted only
when that signature verifies with ``SENDGRID_WEBHOOK_PUBLIC_KEY`` and the timestamp
is recent, so that a captured request cannot be replayed later; anything else gets
403 and records nothing. An accepted batch always gets 200, even when its events
are unknown or ignored: SendGrid retries any other answer for 24 hours.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sendgrid.helpers.eventwebhook import EventWebhook

from avis import clock
from avis.db import db
from avis.mail.events import apply_events
from avis.security import csrf

logger = logging.getLogger(__name__)

bp = Blueprint("mail_webhook", __name__)

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
#: A signed request older than this is refused (SendGrid posts within seconds).
MAX_AGE = dt.timedelta(minutes=10)
#: Clock skew tolerated for a timestamp in the future.
MAX_AHEAD = dt.timedelta(minutes=5)


@bp.post("/webhooks/sendgrid")
@csrf.exempt  # signed by SendGrid instead: no browser, no session
def sendgrid_events() -> ResponseReturnValue:
    """Receive a batch of SendGrid events: verify, apply each event once, commit once."""
    payload = request.get_data(as_text=True)
    public_key = current_app.config.get("SENDGRID_WEBHOOK_PUBLIC_KEY")
    if not public_key:
        logger.warning("sendgrid webhook refused: SENDGRID_WEBHOOK_PUBLIC_KEY is not set")
        return _forbidden()
    signature = request.headers.get(SIGNATURE_HEADER)
    timestamp = request.headers.get(TIMESTAMP_HEADER)
    if not signature or not timestamp:
        logger.warning("sendgrid webhook refused: signature headers missing")
        return _forbidden()
    if not is_recent(timestamp, clock.now()):
        logger.warning("sendgrid webhook refused: timestamp out of range")
        return _forbidden()
    if not is_signed(payload, signature, timestamp, public_key):
        logger.warning("sendgrid webhook refused: bad signature")
        return _forbidden()
    try:
        events = json.loads(payload)
    except ValueError:
        events = None
    if not isinstance(events, list):
        logger.warning("sendgrid webhook refused: body is not a JSON list")
        return _forbidden()
    summary = apply_events(events)
    db.session.commit()
    return jsonify(summary)


def is_signed(payload: str, signature: str, timestamp: str, public_key: str) -> bool:
    """Whether ``signature`` is SendGrid's over ``timestamp + payload``.

    Never raises: a key that does not load, a signature that is not base64 or not
    DER, any failure to verify, is "not signed".
    """
    try:
        return bool(EventWebhook(public_key).verify_signature(payload, signature, timestamp))
    except Exception:  # the helper raises various errors for malformed input
        return False


def is_recent(timestamp: str, now: dt.datetime) -> bool:
    """Whether the signed timestamp (Unix seconds) is within the accepted window."""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    moment = dt.datetime.fromtimestamp(int(timestamp), dt.UTC)
    return now - MAX_AGE <= moment <= now + MAX_AHEAD


def _forbidden() -> Response:
    return Response("forbidden\n", status=403, mimetype="text/plain")
