// Command hello is a minimal program the release tests build with and
// without -s -w, to show that their header checks tell the two apart.
package main

func main() { println("hello") }
