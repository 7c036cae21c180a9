// Command sendevents sends a fixed number of Send Events requests, what
// the wrk benchmark of scripts/bench.sh sends (a chat_session_message with
// a new msg_id, round robin over the chats, from concurrent keep-alive
// connections), and checks that each is answered {}. A fixed number, not a
// duration: scripts/instructions.sh divides what the server spent by it.
//
//	sendevents -url http://127.0.0.1:8080 -chats chats.txt -n 4000 [-c 100] [-prefix m]
//
// The chats are read from the file, or requested (-count of them, as
// clients wrk-1…) and written to it when it does not exist; each run needs
// another -prefix, or its msg_ids are those of the last run and are
// deduplicated.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const tenant = "demo.parley.local"

type chatRef struct{ id, client string }

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "the server")
	file := flag.String("chats", "chats.txt", "file of the chats to send to: read, or requested and written")
	count := flag.Int("count", 100, "chats to request when the file does not exist")
	n := flag.Int("n", 1000, "requests to send; 0: only request the chats")
	conc := flag.Int("c", 100, "concurrent connections")
	prefix := flag.String("prefix", "m", "msg_id prefix, different for each run")
	flag.Parse()
	hc := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc},
		Timeout:   2 * time.Minute,
	}
	base := strings.TrimSuffix(*url, "/") + "/clientweb/api/v2/"
	chats, err := readChats(*file)
	if errors.Is(err, os.ErrNotExist) {
		chats, err = requestChats(hc, base, *count)
		if err == nil {
			err = writeChats(*file, chats)
		}
	}
	if err != nil {
		log.Fatal(err)
	}
	if *n == 0 {
		return
	}
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range *conc {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(*n) {
					return
				}
				c := chats[int(i)%len(chats)]
				body := fmt.Sprintf(`{"events":[{"event":"chat_session_message","msg_id":"%s-%d",`+
					`"msg":"Hello, I have a question about my order; could you please check where it is?"}]}`, *prefix, i)
				if err := send(hc, base+"chats/"+c.id+"/events?tenantUrl="+tenant, c.client, body); err != nil {
					if failed.Add(1) <= 3 {
						log.Print(err)
					}
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	fmt.Printf("sent %d in %v (%.0f/s), errors %d\n", *n, took.Round(time.Millisecond), float64(*n)/took.Seconds(), failed.Load())
	if failed.Load() > 0 {
		os.Exit(1)
	}
}

func send(hc *http.Client, url, client, body string) error {
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "MOBILE-API-140-327-PLAIN appId=demo-chat, clientId="+client)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || string(answer) != "{}" {
		return fmt.Errorf("send events: %d %s", resp.StatusCode, answer)
	}
	return nil
}

func requestChats(hc *http.Client, base string, count int) ([]chatRef, error) {
	chats := make([]chatRef, 0, count)
	for i := 1; i <= count; i++ {
		client := fmt.Sprint("wrk-", i)
		req, err := http.NewRequest("POST", base+"chats?tenantUrl="+tenant, strings.NewReader("{}"))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "MOBILE-API-140-327-PLAIN appId=demo-chat, clientId="+client)
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		var info struct {
			ChatID string `json:"chat_id"`
		}
		err = json.NewDecoder(resp.Body).Decode(&info)
		resp.Body.Close()
		if err != nil || info.ChatID == "" {
			return nil, fmt.Errorf("request chat: %d, %v", resp.StatusCode, err)
		}
		chats = append(chats, chatRef{info.ChatID, client})
	}
	return chats, nil
}

func readChats(file string) ([]chatRef, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var chats []chatRef
	for _, line := range strings.Fields(string(b)) {
		id, client, _ := strings.Cut(line, ",")
		chats = append(chats, chatRef{id, client})
	}
	if len(chats) == 0 {
		return nil, fmt.Errorf("%s: no chats", file)
	}
	return chats, nil
}

func writeChats(file string, chats []chatRef) error {
	var b strings.Builder
	for _, c := range chats {
		fmt.Fprintf(&b, "%s,%s\n", c.id, c.client)
	}
	return os.WriteFile(file, []byte(b.String()), 0o644)
}
