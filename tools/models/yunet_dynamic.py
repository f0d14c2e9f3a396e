# YuNet's file declares a fixed 1x3x640x640 input; tract then refuses other sizes. Rename the
# input's H and W to symbols, make every output's middle dimension symbolic, and drop the stored
# intermediate shapes so the runtime infers them for the size it is given.
import sys
import onnx

src, dst = sys.argv[1], sys.argv[2]
m = onnx.load(src)
g = m.graph
inp = g.input[0].type.tensor_type.shape.dim
inp[2].ClearField("dim_value"); inp[2].dim_param = "H"
inp[3].ClearField("dim_value"); inp[3].dim_param = "W"
for o in g.output:
    d = o.type.tensor_type.shape.dim
    if len(d) >= 2:
        d[1].ClearField("dim_value"); d[1].dim_param = "N_" + o.name
del g.value_info[:]
onnx.checker.check_model(m)
onnx.save(m, dst)
print("yunet: input", [x.dim_param or x.dim_value for x in inp], "outputs", [o.name for o in g.output])
