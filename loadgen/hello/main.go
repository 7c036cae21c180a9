// Command hello is the ceiling of the benchmarks (scripts/bench.sh): the
// plainest net/http server, answering every request with a short text, on
// the same machine and Go as Parley. What Parley serves is compared with
// what this serves under the same load tool.
//
//	hello [-addr 127.0.0.1:8081]   (port 0: any free port, printed)
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	flag.Parse()
	hello := []byte("Hello, World!\n")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(hello)
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("listening on", ln.Addr()) // the port, when addr asks for any
	log.Fatal(http.Serve(ln, nil))
}
