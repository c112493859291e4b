package cmdspec

// hyperloglogSpecs holds the "hyperloglog" group: PFADD, PFCOUNT, PFDEBUG,
// PFMERGE, PFSELFTEST.
var hyperloglogSpecs = []*Spec{
	{
		Name: "pfadd", Arity: -2, Group: "hyperloglog", Since: "2.8.9",
		Summary:       "Adds the specified elements to the specified HyperLogLog.",
		Complexity:    "O(1) to add every element.",
		Flags:         flags("write denyoom fast"),
		ACLCategories: acl("@write @hyperloglog @fast"),
		KeySpecs:      []KeySpec{ks("RW insert", index(1), rangeFK(0, 1, 0))},
		Args:          []Arg{key("key", 0), str("element").opt().multi()},
	},
	{
		Name: "pfcount", Arity: -2, Group: "hyperloglog", Since: "2.8.9",
		Summary:       "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
		Complexity:    "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
		Flags:         flags("readonly"),
		HiddenFlags:   hidden("may_replicate"),
		ACLCategories: acl("@read @hyperloglog @slow"),
		KeySpecs:      []KeySpec{ks("RW access", index(1), rangeFK(-1, 1, 0)).note("RW because it may change the internal representation of the key, and propagate to replicas")},
		Args:          []Arg{key("key", 0).multi()},
	},
	{
		Name: "pfdebug", Arity: 3, Group: "hyperloglog", Since: "2.8.9",
		Summary:       "Internal commands for debugging HyperLogLog values",
		Complexity:    "N/A",
		DocFlags:      []string{"syscmd"},
		Flags:         flags("write denyoom admin"),
		ACLCategories: acl("@write @hyperloglog @admin @slow @dangerous"),
		KeySpecs:      []KeySpec{ks("RW access", index(2), rangeFK(0, 1, 0))},
		Args:          []Arg{str("subcommand"), key("key", 0)},
	},
	{
		Name: "pfmerge", Arity: -2, Group: "hyperloglog", Since: "2.8.9",
		Summary:       "Merge N different HyperLogLogs into a single one.",
		Complexity:    "O(N) to merge N HyperLogLogs, but with high constant times.",
		Flags:         flags("write denyoom"),
		ACLCategories: acl("@write @hyperloglog @slow"),
		KeySpecs: []KeySpec{
			ks("RW access insert", index(1), rangeFK(0, 1, 0)),
			ks("RO access", index(2), rangeFK(-1, 1, 0)),
		},
		Args: []Arg{key("destkey", 0), key("sourcekey", 1).multi()},
	},
	{
		Name: "pfselftest", Arity: 1, Group: "hyperloglog", Since: "2.8.9",
		Summary:       "An internal command for testing HyperLogLog values",
		Complexity:    "N/A",
		DocFlags:      []string{"syscmd"},
		Flags:         flags("admin"),
		ACLCategories: acl("@hyperloglog @admin @slow @dangerous"),
	},
}
