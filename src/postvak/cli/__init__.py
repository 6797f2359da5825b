"""The `postvak` command (typer + rich), the batch-sending client and the demo."""
