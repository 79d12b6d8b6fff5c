"""Checkpoint -> ONNX -> TensorRT, with parity checks, written as a model bundle.

Public API (docs/export.md):
    export.bundle.export_bundle(checkpoint, out, ExportOptions(...), log=print) -> ExportResult
    export.bundle.ExportOptions, export.tensorrt_build.TrtOptions
    export.onnx_checks.check_graph(path, spec, batch)       ONNX checker + contract check
    export.tensorrt_ops.check_tensorrt_support(model, name)  TensorRT 10/11 operator check
    export.parity.measure_parity(model, graphs, batch)       ONNX Runtime vs PyTorch
    export.fp16.convert_fp16_keep_placement(model)           FP16 graph for TensorRT 11
    export.triton.write_triton_repository(bundle, repo, specs, batch)
"""
