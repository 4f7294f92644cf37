from meshes_emulator.cli import main

main()
