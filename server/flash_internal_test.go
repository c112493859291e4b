package server

// The FLASH.* commands are kvd's own (cmd_flash.go): list them for
// TestRegistryMatchesCmdspec here rather than in the shared map literal.
func init() {
	for _, name := range []string{
		"flash.create", "flash.buy", "flash.confirm", "flash.cancel", "flash.restock",
		"flash.delete", "flash.list", "flash.status", "flash.orders",
	} {
		kvdOnlyCommands[name] = true
	}
}
