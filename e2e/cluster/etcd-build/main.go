// Command etcd starts the etcd server; the upstream `etcd` main package lives in a module the Go proxy
// does not serve, so this calls the same entry function from the server module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
