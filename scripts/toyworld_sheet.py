"""Developer aid: render a contact sheet of toyworld instances to look at.

    .venv/bin/python scripts/toyworld_sheet.py CATEGORY[,CATEGORY…] [SEED,SEED…] [OUT.png]
"""

import sys

from PIL import Image

from text3d.data.toyworld.instance import make_instance
from text3d.data.toyworld.style import load_programs
from text3d.render.cameras import Camera
from text3d.render.preview import contact_sheet
from text3d.render.renderer import render

cats = sys.argv[1].split(",") if len(sys.argv) > 1 and sys.argv[1] else sorted(load_programs())
seeds = [int(x) for x in (sys.argv[2].split(",") if len(sys.argv) > 2 else ["0", "1", "2"])]
out = sys.argv[3] if len(sys.argv) > 3 else "/tmp/sheet.png"
images, labels = [], []
for c in cats:
    for s in seeds:
        inst = make_instance(c, s)
        asset = inst.scene().to_asset()
        images.append(render(asset, [Camera(yaw=30, pitch=25, resolution=128)], antialias=True).rgb[0])
        labels.append(inst.prompt)
Image.fromarray(contact_sheet(images, labels, columns=min(len(images), 9), cell=128)).save(out)
print(f"wrote {out}")
