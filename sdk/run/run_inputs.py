"""The files and folders `astseg run` reads, so its outputs can be kept off them."""

from __future__ import annotations

from pathlib import Path

from sdk.sources.sources import parse_source


def input_paths(source: object, model: str | None) -> tuple[list[Path], list[Path]]:
    """(input files, input folders): the video or images and the model bundle.

    Folders are those an output folder may not be: an image folder (or the folders of a
    glob's images) and a bundle folder. A source that is not a path (camera, URL) adds
    nothing; a source that cannot be parsed is left for open_source to name.
    """
    files: list[Path] = []
    folders: list[Path] = []
    spec = parse_source(source)
    if spec.kind == "images":
        files += list(spec.value)
        folders += sorted({p.parent for p in spec.value})
    elif spec.kind in ("image", "video"):
        files.append(Path(spec.value))
        if spec.kind == "image":
            folders.append(Path(spec.value).parent)
    if model:
        bundle = Path(model).expanduser()
        if bundle.is_dir():
            folders.append(bundle)
            files += [p for p in bundle.iterdir() if p.is_file()]
        elif bundle.is_file():
            files.append(bundle)
    return files, folders
