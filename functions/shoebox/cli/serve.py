"""`shoebox serve`: the gallery (timeline, search, people, executions, shares) in a browser."""

from __future__ import annotations

from typing import Annotated

import typer

from shoebox.cli.backends import open_backend
from shoebox.cli.common import StackOpt, err


def serve(
    stack: StackOpt = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: one the OS picks).", min=0, max=65535)] = 0,
    open_browser: Annotated[bool, typer.Option("--open/--no-open", help="Open it in the default browser.")] = True,
) -> None:
    """Browse the archive on 127.0.0.1: timeline, search, photos, people, executions, shares.
    Stop with Ctrl-C."""
    import uvicorn

    from shoebox.gallery.app import Gallery, create_app
    from shoebox.gallery.server import bound_port, config

    with open_backend(stack) as backend:
        gallery = Gallery(backend)
        server = uvicorn.Server(config(create_app(gallery), port))

        async def announce() -> None:  # once bound: the port may be the OS's choice
            url = f"http://127.0.0.1:{bound_port(server)}/"
            err.print(f"gallery of {'the local service' if backend.local else 'stack ' + backend.stack}: {url}",
                      markup=False)
            if open_browser:
                import webbrowser

                webbrowser.open(url)

        import asyncio

        async def main() -> None:
            task = asyncio.create_task(server.serve())
            while not server.started and not task.done():
                await asyncio.sleep(0.05)
            if server.started:
                await announce()
            await task

        asyncio.run(main())


def register(app: typer.Typer) -> None:
    app.command()(serve)
