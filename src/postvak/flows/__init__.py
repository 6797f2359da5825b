"""Use cases that span domains; only the edges (api, web, cli) call them."""
