from vms_tray.cli import main

raise SystemExit(main())
