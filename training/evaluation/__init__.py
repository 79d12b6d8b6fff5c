"""Evaluation: scores any predictor (a training checkpoint, or a deployed bundle through the
torch-free runtime) on any dataset a data spec names, with the project's numpy metrics; what
`astseg eval`, training's validation and the benchmarks share.

Each module does one job, and its imports point one way only, down this list:

    command               run_eval(): what `astseg eval` does -> predictors, scoring, report
    report                the HTML page of `astseg eval --report` -> types
    predictors            load_predictor(): a checkpoint or a bundle -> checkpoint_predictor
    checkpoint_predictor  a training checkpoint as a Predictor (imports torch) -> types
    scoring               Evaluator and evaluate(): the metrics of one run -> grid,
                          tracking_metrics, types
    tracking_metrics      HOTA, IDF1, MOTA, ID switches by TrackEval (also the classical
                          benchmark's) -> nothing of this package
    grid                  the input | reconstruction | segmentation | truth picture -> types
    types                 Prediction, Predictor, EvalReport: imports nothing of this package

Nothing here but checkpoint_predictor imports torch, so bundles are scored on a torch-free
install.
"""
