"""Showing a TOTP secret: as a QR code for the phone's camera, and as text to type."""

from __future__ import annotations

import base64
import io

import segno


def qr_data_uri(uri: str) -> str:
    """An ``otpauth://`` URI as an SVG QR code in a ``data:`` URI: an image the page
    holds itself (no request to another host, allowed by the page's CSP)."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, border=2,
                                    title="QR code", xmldecl=False, svgns=True)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def spaced(secret: str) -> str:
    """``JBSWY3DPEHPK3PXP`` → ``JBSW Y3DP EHPK 3PXP``: easier to type."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
