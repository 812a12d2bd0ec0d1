"""``drumgenx studio``: a local web app to hear, see and edit a run's loops in the browser.

It reads and writes the same files as the command line, through the same functions: run
records (`core.layout`), event grids (`core.formats`), edits (`edit.run`, new versions
only), stage 4 (`groove.run`), new runs (`chain.run.run_chain`, its progress as an event
stream), pools (new versions only), renders, MIDI and kits (`render.run`, `kit.export`).
``app`` holds the routes, ``api`` the logic behind them (``new_run``, ``library`` and
``exports`` the rest of it), ``server`` the launch on uvicorn, ``static/`` the page (plain
ES modules, no build step). Starlette, uvicorn and python-multipart come with the optional
extra: ``pip install -e '.[studio]'``.
"""
