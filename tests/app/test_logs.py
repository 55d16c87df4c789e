"""Survey tokens never reach the access logs."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

from avis.surveys import tokens


@pytest.mark.parametrize("logger_name", ["werkzeug", "gunicorn.access"])
def test_access_log_lines_hide_tokens(app: Flask, caplog: pytest.LogCaptureFixture,
                                      logger_name: str) -> None:
    token = tokens.mint()
    logger = logging.getLogger(logger_name)
    with caplog.at_level(logging.INFO, logger=logger_name):
        logger.info('%s - - [%s] "%s" %s', "127.0.0.1", "now",
                    f"GET /q/{token}?note=4 HTTP/1.1", 303)
        logger.info('"%s"', f"POST /unsubscribe/{token} HTTP/1.1")
        logger.info('"%s"', f"GET /login/lien/{token} HTTP/1.1")
        logger.info('"%s"', "GET /organismes/12345678200010 HTTP/1.1")
    assert token not in caplog.text
    assert "GET /q/…?note=4" in caplog.text
    assert "POST /unsubscribe/…" in caplog.text
    assert "GET /login/lien/… " in caplog.text
    assert "/organismes/12345678200010" in caplog.text
