#!/usr/bin/python3
"""Validate ONNX files exported by CNN Studio with the official checker (Debian's python3-onnx).

Usage: /usr/bin/python3 tools/check-onnx.py MODEL.onnx [MODEL.onnx ...]

For each file: onnx.checker (full check, which includes strict shape inference), then prints the
opset, the input/output signature with the inferred shapes, the node sequence and the metadata.
Exit code 0 when every file passes, 1 otherwise. Not used by the tests (they must not need Python);
the tests run the exported files in onnxruntime-node instead.
"""
import math
import sys

import onnx
from onnx import shape_inference


def dims(value_info):
    shape = value_info.type.tensor_type.shape
    return [d.dim_param or d.dim_value for d in shape.dim]


def check(path):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inferred = shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    graph = inferred.graph
    opsets = ", ".join(f"{o.domain or 'ai.onnx'} {o.version}" for o in model.opset_import)
    print(f"{path}: OK (onnx {onnx.__version__} checker, full_check; IR {model.ir_version}; opset {opsets})")
    print(f"  producer: {model.producer_name} {model.producer_version}".rstrip())
    for v in graph.input:
        print(f"  input  {v.name}: float32 {dims(v)}")
    for v in graph.output:
        print(f"  output {v.name}: float32 {dims(v)}")
    print("  nodes:  " + " → ".join(n.op_type for n in graph.node))
    shapes = {v.name: dims(v) for v in graph.value_info}
    for n in graph.node:
        if n.output[0] in shapes:
            print(f"    {n.op_type:<9} {n.output[0]:<16} {shapes[n.output[0]]}")
    params = sum(math.prod(t.dims) for t in graph.initializer)
    print(f"  initializers: {len(graph.initializer)} tensors, {params} values")
    for p in model.metadata_props:
        value = p.value if len(p.value) <= 100 else p.value[:97] + "..."
        print(f"  metadata {p.key} = {value}")


def main(paths):
    if not paths:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    failed = 0
    for path in paths:
        try:
            check(path)
        except Exception as e:  # report every file, then fail
            print(f"{path}: FAILED: {type(e).__name__}: {e}")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
