#!/usr/bin/env python3
"""Trains and exports the demo models on scikit-learn's bundled digits data.

Writes into the output directory (default: executor/demo-models):
  mlp_digits_f32.onnx   64-64-10 MLP in float: pixels f32[1,64] -> label i64[1], probabilities f32[1,10]
  mlp_digits_int.onnx   the same network in integer arithmetic only:
                        pixels u8[1,64] -> label i64[1], logits i32[1,10]
  test_vectors.json     the held-out images, their labels, and onnxruntime's outputs for both models
  models.json           hashes (blake2-256, the registry's), schemas and accuracies
and into executor/tests/data four fixtures for the executor's error tests:
  unsupported_op.onnx   a graph with an operator no engine implements
  slow_matmul.onnx      32 1024x1024 matrix products on a scalar input (69 GFLOP): about a second
  runtime_reshape.onnx  a reshape to a shape given as an input: fails at run time on a bad shape
  range_from_input.onnx a range as long as an input value: memory grows with a value, not a shape

Everything is seeded: the same pinned packages (requirements.txt) give the same files.
"""

import argparse
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime
import sklearn
from onnx import TensorProto, helper, numpy_helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

SEED = 0
HIDDEN = 64
OPSET = 13


def blake2_256(data: bytes) -> str:
    return "0x" + hashlib.blake2b(data, digest_size=32).hexdigest()


def train(x_train, y_train):
    clf = MLPClassifier(hidden_layer_sizes=(HIDDEN,), activation="relu", max_iter=600,
                        random_state=SEED)
    clf.fit(x_train, y_train)
    return clf


def export_float(clf) -> onnx.ModelProto:
    """The classifier as skl2onnx writes it, with fixed shapes (the chain's schemas have no
    symbolic dimensions) and without ZipMap (plain tensors out)."""
    model = convert_sklearn(
        clf,
        initial_types=[("pixels", FloatTensorType([1, 64]))],
        options={id(clf): {"zipmap": False}},
        target_opset={"": OPSET, "ai.onnx.ml": 1},
    )
    model.graph.name = "mlp_digits_f32"
    pin_output_shapes(model, {"label": [1], "probabilities": [1, 10]})
    return model


def pin_output_shapes(model, shapes):
    for output in model.graph.output:
        dims = output.type.tensor_type.shape.dim
        for dim, size in zip(dims, shapes[output.name]):
            dim.ClearField("dim_param")
            dim.dim_value = size


def quantize_symmetric(weights):
    scale = float(np.abs(weights).max()) / 127.0
    return np.clip(np.round(weights / scale), -127, 127).astype(np.int8), scale


def export_integer(clf, x_train) -> onnx.ModelProto:
    """The same network with int8 weights, integer accumulation and integer requantisation.

    Layer 1: acc1 = x(u8) . W1(i8) + b1 (i32, scale s1 per unit of pixel);
             h = min(max(acc1, 0) / D, 255) as u8, D chosen so the largest hidden activation
             seen in training fills u8.
    Layer 2: logits = h(u8) . W2(i8) + b2 (i32); label = argmax(logits).
    Every operation is integer, so any correct engine computes the same bits.
    """
    w1, b1 = clf.coefs_[0], clf.intercepts_[0]
    w2, b2 = clf.coefs_[1], clf.intercepts_[1]
    w1q, s1 = quantize_symmetric(w1)
    b1q = np.round(b1 / s1).astype(np.int32)
    acc1 = x_train.astype(np.int64) @ w1q.astype(np.int64) + b1q
    hidden_max = float(np.maximum(acc1, 0).max())
    divisor = max(1, int(np.ceil(hidden_max / 255.0)))
    w2q, s2 = quantize_symmetric(w2)
    b2q = np.round(b2 / (s1 * divisor * s2)).astype(np.int32)

    init = [
        numpy_helper.from_array(w1q, "w1"),
        numpy_helper.from_array(b1q, "b1"),
        numpy_helper.from_array(np.array(0, dtype=np.int32), "zero"),
        numpy_helper.from_array(np.array(divisor, dtype=np.int32), "divisor"),
        numpy_helper.from_array(np.array(255, dtype=np.int32), "u8_max"),
        numpy_helper.from_array(w2q, "w2"),
        numpy_helper.from_array(b2q, "b2"),
    ]
    nodes = [
        helper.make_node("MatMulInteger", ["pixels", "w1"], ["acc1"]),
        helper.make_node("Add", ["acc1", "b1"], ["pre1"]),
        helper.make_node("Max", ["pre1", "zero"], ["relu1"]),
        helper.make_node("Div", ["relu1", "divisor"], ["scaled1"]),
        helper.make_node("Min", ["scaled1", "u8_max"], ["clipped1"]),
        helper.make_node("Cast", ["clipped1"], ["hidden"], to=TensorProto.UINT8),
        helper.make_node("MatMulInteger", ["hidden", "w2"], ["acc2"]),
        helper.make_node("Add", ["acc2", "b2"], ["logits"]),
        helper.make_node("ArgMax", ["logits"], ["label"], axis=1, keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp_digits_int",
        [helper.make_tensor_value_info("pixels", TensorProto.UINT8, [1, 64])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, [1]),
            helper.make_tensor_value_info("logits", TensorProto.INT32, [1, 10]),
        ],
        init,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="veritensor-demo-models")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model, {"weight_scales": [s1, s2], "hidden_divisor": divisor}


def write_test_fixtures(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    unsupported = helper.make_model(
        helper.make_graph(
            [helper.make_node("VeritensorNoSuchOp", ["x"], ["y"])],
            "unsupported_op",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        ),
        opset_imports=[helper.make_opsetid("", OPSET)])
    unsupported.ir_version = 8
    with open(os.path.join(out_dir, "unsupported_op.onnx"), "wb") as f:
        f.write(unsupported.SerializeToString())

    # Long enough that a run on an optimised engine still outlasts the tests' deadlines and their
    # kill: 32 products of 1024x1024 matrices. Entries of 1/size keep every product at 1/size for
    # x = 1 (J/n is idempotent), so the output stays finite however many products there are.
    size = 1024
    products = 32
    nodes = [
        helper.make_node("ConstantOfShape", ["dims"], ["ones"],
                         value=helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0 / size])),
        helper.make_node("Mul", ["ones", "x"], ["m0"]),
    ]
    for i in range(products):
        nodes.append(helper.make_node("MatMul", [f"m{i}", "m0"], [f"m{i + 1}"]))
    nodes.append(helper.make_node("ReduceMax", [f"m{products}"], ["y"], axes=[0, 1], keepdims=1))
    slow = helper.make_model(
        helper.make_graph(
            nodes, "slow_matmul",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])],
            [numpy_helper.from_array(np.array([size, size], dtype=np.int64), "dims")]),
        opset_imports=[helper.make_opsetid("", OPSET)])
    slow.ir_version = 8
    reshape = helper.make_model(
        helper.make_graph(
            [helper.make_node("Reshape", ["x", "shape"], ["y"])],
            "runtime_reshape",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4]),
             helper.make_tensor_value_info("shape", TensorProto.INT64, [2])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["rows", "columns"])]),
        opset_imports=[helper.make_opsetid("", OPSET)])
    reshape.ir_version = 8
    onnx.checker.check_model(reshape, full_check=True)
    with open(os.path.join(out_dir, "runtime_reshape.onnx"), "wb") as f:
        f.write(reshape.SerializeToString())
    onnx.checker.check_model(slow, full_check=True)
    with open(os.path.join(out_dir, "slow_matmul.onnx"), "wb") as f:
        f.write(slow.SerializeToString())

    # n f32[1] -> scalar -> Range(0, n, 1) -> sum: y = [n(n-1)/2] for a whole n, and a Range of
    # n floats, so a large n (2^31) asks for gigabytes although every declared shape is [1].
    range_model = helper.make_model(
        helper.make_graph(
            [helper.make_node("Squeeze", ["n", "squeeze_axes"], ["limit"]),
             helper.make_node("Range", ["start", "limit", "delta"], ["values"]),
             helper.make_node("ReduceSum", ["values"], ["y"], keepdims=1)],
            "range_from_input",
            [helper.make_tensor_value_info("n", TensorProto.FLOAT, [1])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
            [numpy_helper.from_array(np.array([0], dtype=np.int64), "squeeze_axes"),
             numpy_helper.from_array(np.array(0.0, dtype=np.float32), "start"),
             numpy_helper.from_array(np.array(1.0, dtype=np.float32), "delta")]),
        opset_imports=[helper.make_opsetid("", OPSET)])
    range_model.ir_version = 8
    onnx.checker.check_model(range_model, full_check=True)
    with open(os.path.join(out_dir, "range_from_input.onnx"), "wb") as f:
        f.write(range_model.SerializeToString())


def run_onnxruntime(model_bytes, name, inputs):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    return [session.run(None, {name: row[None, :]}) for row in inputs]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                               "executor", "demo-models")
    parser.add_argument("--out", default=os.path.normpath(default_out))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    digits = load_digits()
    x = digits.data.astype(np.float32)  # 8x8 images, integer pixels 0..16
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=SEED, stratify=y)
    print(f"digits: {len(x_train)} training and {len(x_test)} test images", file=sys.stderr)

    clf = train(x_train, y_train)
    float_model = export_float(clf)
    int_model, int_params = export_integer(clf, x_train.astype(np.uint8))
    float_bytes = float_model.SerializeToString()
    int_bytes = int_model.SerializeToString()

    float_out = run_onnxruntime(float_bytes, "pixels", x_test)
    int_out = run_onnxruntime(int_bytes, "pixels", x_test.astype(np.uint8))
    float_labels = [int(out[0][0]) for out in float_out]
    int_labels = [int(out[0][0]) for out in int_out]
    float_accuracy = float(np.mean(np.array(float_labels) == y_test))
    int_accuracy = float(np.mean(np.array(int_labels) == y_test))
    sklearn_accuracy = float(clf.score(x_test, y_test))
    print(f"accuracy: scikit-learn {sklearn_accuracy:.4f}, float ONNX {float_accuracy:.4f}, "
          f"integer ONNX {int_accuracy:.4f}", file=sys.stderr)

    with open(os.path.join(args.out, "mlp_digits_f32.onnx"), "wb") as f:
        f.write(float_bytes)
    with open(os.path.join(args.out, "mlp_digits_int.onnx"), "wb") as f:
        f.write(int_bytes)

    vectors = {
        "description": "Held-out digits images (8x8, pixels 0..16, row-major), their labels, and "
                       "onnxruntime's outputs (1 thread, CPU provider) for both demo models.",
        "onnxruntime_version": onnxruntime.__version__,
        "pixels": x_test.astype(np.int64).tolist(),
        "labels": y_test.tolist(),
        "mlp_digits_f32": {
            "labels": float_labels,
            "probabilities": [out[1][0].astype(float).tolist() for out in float_out],
        },
        "mlp_digits_int": {
            "labels": int_labels,
            "logits": [out[1][0].astype(int).tolist() for out in int_out],
        },
    }
    with open(os.path.join(args.out, "test_vectors.json"), "w") as f:
        json.dump(vectors, f, separators=(",", ":"))

    catalogue = {
        "generated_by": {
            "scikit-learn": sklearn.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__,
            "numpy": np.__version__,
        },
        "test_images": len(x_test),
        "models": {
            "mlp_digits_f32": {
                "file": "mlp_digits_f32.onnx",
                "hash": blake2_256(float_bytes),
                "bytes": len(float_bytes),
                "inputs": [{"name": "pixels", "elem": "F32", "shape": [1, 64]}],
                "outputs": [{"name": "label", "elem": "I64", "shape": [1]},
                            {"name": "probabilities", "elem": "F32", "shape": [1, 10]}],
                "accuracy": float_accuracy,
            },
            "mlp_digits_int": {
                "file": "mlp_digits_int.onnx",
                "hash": blake2_256(int_bytes),
                "bytes": len(int_bytes),
                "inputs": [{"name": "pixels", "elem": "U8", "shape": [1, 64]}],
                "outputs": [{"name": "label", "elem": "I64", "shape": [1]},
                            {"name": "logits", "elem": "I32", "shape": [1, 10]}],
                "accuracy": int_accuracy,
                **int_params,
            },
        },
    }
    with open(os.path.join(args.out, "models.json"), "w") as f:
        json.dump(catalogue, f, indent=2)
        f.write("\n")
    fixtures = os.path.join(os.path.dirname(os.path.normpath(args.out)), "tests", "data")
    write_test_fixtures(fixtures)
    print(f"wrote {args.out} and {fixtures}", file=sys.stderr)


if __name__ == "__main__":
    main()
