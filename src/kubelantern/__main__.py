"""`python -m kubelantern` = the `kubelantern` command."""

from kubelantern.cli import main

raise SystemExit(main())
