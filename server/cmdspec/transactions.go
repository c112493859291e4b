package cmdspec

// transactionsSpecs holds the "transactions" group: DISCARD, EXEC, MULTI,
// UNWATCH, WATCH.
var transactionsSpecs = []*Spec{
	{
		Name: "discard", Arity: 1, Group: "transactions", Since: "2.0.0",
		Summary:       "Discard all commands issued after MULTI",
		Complexity:    "O(N), when N is the number of queued commands",
		Flags:         flags("noscript loading stale fast allow_busy"),
		ACLCategories: acl("@fast @transaction"),
	},
	{
		Name: "exec", Arity: 1, Group: "transactions", Since: "1.2.0",
		Summary:       "Execute all commands issued after MULTI",
		Complexity:    "Depends on commands in the transaction",
		Flags:         flags("noscript loading stale skip_slowlog"),
		ACLCategories: acl("@slow @transaction"),
	},
	{
		Name: "multi", Arity: 1, Group: "transactions", Since: "1.2.0",
		Summary:       "Mark the start of a transaction block",
		Complexity:    "O(1)",
		Flags:         flags("noscript loading stale fast allow_busy"),
		ACLCategories: acl("@fast @transaction"),
	},
	{
		Name: "unwatch", Arity: 1, Group: "transactions", Since: "2.2.0",
		Summary:       "Forget about all watched keys",
		Complexity:    "O(1)",
		Flags:         flags("noscript loading stale fast allow_busy"),
		ACLCategories: acl("@fast @transaction"),
	},
	{
		Name: "watch", Arity: -2, Group: "transactions", Since: "2.2.0",
		Summary:       "Watch the given keys to determine execution of the MULTI/EXEC block",
		Complexity:    "O(1) for every key.",
		Flags:         flags("noscript loading stale fast allow_busy"),
		ACLCategories: acl("@fast @transaction"),
		KeySpecs:      []KeySpec{ks("RO", index(1), rangeFK(-1, 1, 0))},
		Args:          []Arg{key("key", 0).multi()},
	},
}
