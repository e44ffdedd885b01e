from testengine.cli import main

main()
