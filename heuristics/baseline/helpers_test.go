package baseline

// got is the part of a Decision the tests compare.
type got struct {
	Valid    bool
	Replicas int32
	Reason   string
}
