"""`postvak keys`: rotate the key-encryption key and re-wrap every data key under the new one."""

from __future__ import annotations

import typer

from postvak.cli.output import emit
from postvak.cli.startup import start_runtime

app = typer.Typer(help="Encryption keys.", no_args_is_help=True)


@app.command("rotate")
def keys_rotate(as_json: bool = typer.Option(False, "--json")) -> None:
    """Make a new key-encryption key and re-wrap every data key under it (content is not re-encrypted):
    letters, attachments, citizens' TOTP secrets and their pending changes, webhook secrets."""
    from postvak.attachments.service import rewrap_blob_keys
    from postvak.auth.credentials import rewrap_totp_keys
    from postvak.citizens.service import rewrap_pending_keys
    from postvak.messages.service import rewrap_body_keys
    from postvak.webhooks.service import rewrap_secret_keys

    runtime = start_runtime()
    new_id = runtime.keyring.rotate()
    # Short transactions: one long one would hold back every sender's event feed on PostgreSQL.
    steps = (rewrap_body_keys, rewrap_blob_keys, rewrap_totp_keys, rewrap_pending_keys, rewrap_secret_keys)
    messages, files, totp, pending, webhooks = (_repeat_until_done(runtime, step) for step in steps)
    emit(
        {
            "keyId": new_id,
            "letters": messages,
            "attachments": files,
            "totpSecrets": totp,
            "pendingChanges": pending,
            "webhookSecrets": webhooks,
        },
        as_json,
        [
            f"new key {new_id}; re-wrapped {messages} letters, {files} attachments, "
            f"{totp} TOTP secrets, {pending} pending changes and {webhooks} webhook endpoints' secrets"
        ],
    )


def _repeat_until_done(runtime, step) -> int:
    total = 0
    while True:
        with runtime.database.unit_of_work() as session:
            done = step(session, keyring=runtime.keyring)
        if not done:
            return total
        total += done
