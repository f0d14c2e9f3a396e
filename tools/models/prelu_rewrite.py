"""PRelu(x, a) -> Relu(x) * (1 - a) + x * a: the same function, in ops tract fuses."""
import sys
import numpy as np
import onnx
from onnx import helper, numpy_helper

src, dst = sys.argv[1], sys.argv[2]
m = onnx.load(src)
g = m.graph
inits = {t.name: t for t in g.initializer}
nodes = []
count = 0
for n in g.node:
    if n.op_type == "PRelu" and n.input[1] in inits:
        x, a = n.input
        slope = numpy_helper.to_array(inits[a]).astype(np.float32)
        one_minus = n.name + "_one_minus_slope"
        g.initializer.append(numpy_helper.from_array(1.0 - slope, one_minus))
        r = n.name + "_relu"
        nodes.append(helper.make_node("Relu", [x], [r], name=r))
        nodes.append(helper.make_node("Mul", [r, one_minus], [n.name + "_pos"], name=n.name + "_pos"))
        nodes.append(helper.make_node("Mul", [x, a], [n.name + "_neg"], name=n.name + "_neg"))
        nodes.append(helper.make_node("Add", [n.name + "_pos", n.name + "_neg"], list(n.output), name=n.name))
        count += 1
    else:
        nodes.append(n)
del g.node[:]
g.node.extend(nodes)
onnx.checker.check_model(m)
onnx.save(m, dst)
print(f"{count} PRelu rewritten", file=sys.stderr)
