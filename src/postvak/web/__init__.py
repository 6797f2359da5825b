"""The HTML side, grouped by audience: citizen/ holds the citizen's pages, one module per page; the
sender portal (portal/) and the operators' pages (operator/) will sit beside it. What every audience
shares stays here: the app's assembly (app.py), security headers, CSRF, languages and templates, the
rendering of problems, and where a citizen returns after logging in."""
