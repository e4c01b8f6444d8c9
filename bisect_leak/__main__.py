from bisect_leak.commands.main import main

main()
