"""Statements: what a sender used in a month (letters, e-mails, SMS, prints) and what it costs."""
