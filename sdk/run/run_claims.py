"""The files `astseg run` will write, output by output, checked for overlaps before the
first frame (sdk.outputs.claims): `--masks m --json m/000005.png`, `--report rep --json
rep/index.html` or an input image named contact_sheet.png with `--masks rep --report rep`
are refused instead of one output silently replacing another.
"""

from __future__ import annotations

from pathlib import Path

from sdk.outputs.claims import FRAME_MASKS, Claim, folder_claim, output_claims, refuse_overlaps
from sdk.outputs.outputs import OutputOptions
from sdk.outputs.report import REPORT_NAME
from sdk.outputs.sinks import mask_file_name
from sdk.run.run_report import REPORT_VIDEO, SHEET_NAME
from sdk.sources.sources import image_names, parse_source


def masks_claim(folder: Path, source: object, stride: int) -> Claim:
    """Image sources name each mask after its image; other sources by frame number."""
    spec = parse_source(source)
    if spec.kind in ("images", "image"):
        files = spec.value if spec.kind == "images" else [spec.value]
        names = image_names(files, stride)
        return folder_claim(
            "--masks", folder, (str(mask_file_name(n, i)) for i, n in enumerate(names))
        )
    return folder_claim("--masks", folder, pattern=FRAME_MASKS)


def check_run_claims(
    outputs: OutputOptions, report: Path | None, source: object, stride: int
) -> None:
    """Refuse, before anything is read, two outputs of one run that would write one file.

    `outputs` are the options as the user gave them (no report video filled in yet).
    """
    claims = output_claims("--out", outputs.out) + output_claims("--json", outputs.json)
    if outputs.masks is not None:
        claims.append(masks_claim(outputs.masks, source, stride))
    if report is not None:
        names = [REPORT_NAME, SHEET_NAME] + ([REPORT_VIDEO] if outputs.out is None else [])
        claims.append(folder_claim("--report", report, names))
    refuse_overlaps(claims)
