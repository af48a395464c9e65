"""`ape run standin [--host --port]`: a stand-in inference server for trying the gateway locally
(`vvv.gateway.standin`; every answer says it is a stand-in). Point the gateway at it with
`--upstream http://HOST:PORT`."""

import click
import uvicorn

from vvv.gateway.standin import make_app


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8200, show_default=True, type=click.IntRange(1, 65535))
def cli(host: str, port: int) -> None:
    """Serve the stand-in upstream."""
    print(f"stand-in upstream on http://{host}:{port} (not a model: every answer says so); Ctrl-C stops it", flush=True)
    uvicorn.run(make_app(), host=host, port=port, log_level="warning")
