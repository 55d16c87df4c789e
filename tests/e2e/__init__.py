"""Browser tests: a trainee on a phone, driven by Playwright through Debian's Chromium."""
