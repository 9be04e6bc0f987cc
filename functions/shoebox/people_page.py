"""Pages to look at people while deciding about them: who each face group is (to name it), and the pairs
`people suggest` asks about, side by side (to answer "same person?"). A terminal cannot show a face; these
self-contained pages can, from a local folder that holds their images (nothing is published).

Pure rendering: the caller copies the images and passes each object key's file name in that folder."""

from __future__ import annotations

import html
import shlex
from collections.abc import Mapping

_STYLE = """body{font-family:system-ui,sans-serif;margin:1.5rem;background:#111;color:#eee}
a{color:#9cf}code{background:#222;padding:.1rem .3rem;border-radius:3px;user-select:all}
.person{display:flex;gap:.8rem;align-items:flex-start;background:#1b1b1b;border-radius:6px;padding:.6rem}
.cover{width:160px;height:160px;border-radius:4px;object-fit:cover;background:#333}
.samples{display:flex;gap:4px;flex-wrap:wrap;margin-top:.4rem}.samples img{height:90px;border-radius:3px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:10px}
.pair{display:grid;grid-template-columns:1fr auto 1fr;gap:10px;align-items:center;margin-bottom:1.2rem}
.score{font-size:1.4rem;text-align:center}.answer{grid-column:1/4;color:#bbb}.dim{color:#888}"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _img(files: Mapping[str, str], key: str | None, cls: str, alt: str) -> str:
    name = files.get(key or "")
    if not name:  # not made (yet) or gone: say so rather than show a broken image
        return f'<div class="{cls}" title="no image"></div>'
    return f'<img class="{cls}" src="{_e(name)}" alt="{_e(alt)}" loading="lazy">'


def _cmd(command: str, *words: str) -> str:
    if any(w.startswith("-") for w in words):  # a name like "-Bob" must not be read as an option
        words = ("--", *words)
    return f"<code>{_e(shlex.join(('shoebox', 'people', command, *words)))}</code>"


def person_card(person: Mapping, files: Mapping[str, str], footer: str = "", id_prefix: str = "") -> str:
    """One person (the ``Person.to_json()`` shape): cover crop, name, counts, sample photos, then
    ``footer`` (HTML). The card's HTML id is ``id_prefix`` + the person id: a page that shows a person
    more than once gives each card its own prefix, since an id must be unique in a page."""
    pid = person["id"]
    name = person.get("name")
    merged = person.get("aliases") or []
    samples = "".join(_img(files, key, "sample", key.rsplit("/", 1)[-1]) for key in person.get("samples") or []
                      if files.get(key))
    return (f'<section class="person" id="{_e(id_prefix + pid)}">{_img(files, person.get("cover"), "cover", name or pid)}'
            f'<div><b>{_e(name) if name else "<span class=dim>unnamed</span>"}</b> '
            f'<span class="dim">{_e(pid)}</span><br>{int(person.get("photos") or 0)} photo(s), '
            f'{int(person.get("faces") or 0)} face(s)'
            + (f'<br><span class="dim">merged: {_e(", ".join(merged))}</span>' if merged else "")
            + ('<br><span class="dim">hidden</span>' if person.get("hidden") else "")
            + f'<div class="samples">{samples}</div>{footer}</div></section>')


def _page(title: str, intro: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>{_e(title)}</title><style>{_STYLE}</style></head>
<body><h1>{_e(title)}</h1><p>{intro}</p>
{body}
</body></html>
"""


def people_html(people: list[Mapping], files: Mapping[str, str], hidden_only: bool = False) -> str:
    """Every person as a card, with the commands that name them and hide (or unhide) them.
    ``hidden_only``: the list is `people --hidden`, so the page says so and how to list them again."""
    cards = "\n".join(person_card(p, files, f'<div>{_cmd("name", p["id"], p.get("name") or "NAME")}<br>'
                                             f'{_cmd("unhide" if p.get("hidden") else "hide", p["id"])}</div>')
                      for p in people)
    if hidden_only:
        title, intro = "Hidden people", (f"{len(people)} hidden people, most photographed first: not in "
                                         f"<code>shoebox people</code> nor suggested. List one again: "
                                         f"{_cmd('unhide', 'ID')}.")
    else:
        title, intro = "People", (f"{len(people)} people, most photographed first. Name one: "
                                  f"{_cmd('name', 'ID', 'NAME')}; two groups of one person: "
                                  f"{_cmd('merge', 'ID', 'ID')}; not someone you know: {_cmd('hide', 'ID')}.")
    empty = "<p>No hidden people.</p>" if hidden_only else "<p>No people found yet.</p>"
    return _page(title, intro, f'<div class="grid">{cards}</div>' if people else empty)


def suggestions_html(pairs: list[Mapping], files: Mapping[str, str]) -> str:
    """Each pair `people suggest` found (``{"a", "b", "similarity"}``), most alike first: the two people
    side by side and the two answers as commands. A person can be in several pairs, so ids are per pair
    (``pair-N``, its cards ``pair-N-<person id>``)."""
    rows = "\n".join(
        f'<div class="pair" id="pair-{n}">{person_card(pair["a"], files, id_prefix=f"pair-{n}-")}'
        f'<div class="score">{float(pair["similarity"]):.2f}<br><span class="dim">alike</span></div>'
        f'{person_card(pair["b"], files, id_prefix=f"pair-{n}-")}'
        f'<div class="answer">same person: {_cmd("merge", pair["a"]["id"], pair["b"]["id"])} · '
        f'not: {_cmd("apart", pair["a"]["id"], pair["b"]["id"])}</div></div>'
        for n, pair in enumerate(pairs, start=1))
    intro = (f"{len(pairs)} pair(s) that may be one person, most alike first (e.g. someone's face groups from "
             "years apart). Answer each with one of the commands under it.")
    return _page("Maybe the same person", intro, rows or "<p>No suggestions: no two people look alike enough to ask.</p>")
