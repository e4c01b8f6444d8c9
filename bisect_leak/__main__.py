from bisect_leak.cli import main

main()
