from meshes_emulator.cli import main

main(prog_name="meshes-emulator")
