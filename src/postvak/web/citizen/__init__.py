"""The citizen's pages, one route module per page (login, inbox, messages, folders, settings …); what
they share lives in session.py (who is signed in), rendering.py and settings_rendering.py (how a page
is drawn). A route module never imports another: web/app.py mounts them all."""
