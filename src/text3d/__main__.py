from text3d.cli import entry

entry()
