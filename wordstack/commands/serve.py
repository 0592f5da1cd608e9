"""``wordstack serve``: the JSON API and the explorer page over model folders (thin over
:func:`wordstack.server.serve`)."""
from __future__ import annotations

import sys

import click

from .._console import warn
from .._options import example
from .._output import counted
from .._word_models import default_models


@click.command()
@click.argument("model_dirs", nargs=-1, type=click.Path())
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. The default answers this machine only; anything else (0.0.0.0: every "
                   "interface) lets others query the models.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: a free one; the URL printed says which).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes answering requests, on the same port and the same memory-mapped vectors: one per core "
                   "lets every core answer at once (Linux, macOS).")
@click.option("--access-log", is_flag=True, help="Log one line per request on stderr.")
@example("wordstack serve                                  (the default Shakespeare models)\n"
         "wordstack serve models/small models/big --port 8080\n"
         "wordstack serve models/big --workers 2              (two processes: both cores answer)\n"
         "curl 'http://127.0.0.1:8000/api/similar?q=romeo&n=5'")
def serve(model_dirs, host, port, workers, access_log):
    """Answer word-vector queries over HTTP (JSON) and serve the explorer page at /.

    Each MODEL_DIR is loaded once (memory-mapped, no pickle) and answered side by
    side; without MODEL_DIR, the default models (those `wordstack demo` built, or the
    default model, trained on first use). Read-only; the routes are /api/models,
    /api/similar, /api/analogy, /api/odd-one-out, /api/similarity, /api/map and
    /api/complete, answering the JSON of the CLI's --json (docs/api.md). Stop with
    Ctrl-C (exit 130) or SIGTERM (exit 143).
    """
    from ..server import ServeError, serve as serve_models

    dirs = list(model_dirs) or default_models()

    def ready(url, model_set, loopback):
        procs = f" by {workers} worker processes" if workers > 1 else ""
        click.echo(f"Serving {counted(len(model_set), 'model')} at {url}{procs} (Ctrl-C to stop)")
        for m in model_set.models:
            click.echo(f"  {m.id}: {m.vectors.label}, {counted(len(m.vectors), 'word')}  {m.vectors.path}")
        click.echo(f"API: {url}api/models, {url}api/similar?q=WORD ... (docs/api.md)")
        if not loopback:
            warn(f"listening on {host}, not only this machine: anyone who can reach it can query the models")
        sys.stdout.flush()

    try:
        status = serve_models(dirs, host, port, workers=workers, access_log=access_log, on_ready=ready)
    except ServeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("Stopped.", err=True)
    sys.exit(status)


COMMANDS = [serve]
__all__ = ["COMMANDS"]
