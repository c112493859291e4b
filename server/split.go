package server

// splitRun runs a split command whose keys all live on one worker: the
// same KeyFn as the parallel parts, merged the same way.
func splitRun(x *Ctx) {
	cmd := x.req.cmd
	if cmd.Step > 1 && (len(x.Args)-cmd.FirstKey)%cmd.Step != 0 {
		x.W.Error(WrongArgs(cmd.Name))
		return
	}
	n := (len(x.Args) - cmd.FirstKey + cmd.Step - 1) / cmd.Step
	if cmd.Split == SplitArray {
		x.W.Array(n)
	}
	var sum int64
	for i := cmd.FirstKey; i < len(x.Args); i += cmd.Step {
		end := min(i+cmd.Step, len(x.Args))
		sum += cmd.KeyFn(x, x.Args[i], x.Args[i+1:end])
	}
	switch cmd.Split {
	case SplitSum:
		x.W.Int(sum)
	case SplitOK:
		x.W.OK()
	}
}
