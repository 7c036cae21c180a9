package agentapi_test

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/parley-chat/parley/agentapi"
	"sigs.k8s.io/yaml"
)

// openAPI is the part of docs/agent-api.openapi.yaml the tests hold to the
// code: its paths and the fields of its schemas.
type openAPI struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Required   []string                   `json:"required"`
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"schemas"`
	} `json:"components"`
}

func loadOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	data, err := os.ReadFile("../docs/agent-api.openapi.yaml")
	if err != nil {
		t.Fatalf("read the OpenAPI description: %v", err)
	}
	var doc openAPI
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parse the OpenAPI description: %v", err)
	}
	return &doc
}

var pathParam = regexp.MustCompile(`\{[a-zA-Z]+\}`)

func TestTheOpenAPIDescriptionListsEveryMethodAndNoOther(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	var documented []string
	for path, item := range doc.Paths {
		for method := range item {
			if method == "parameters" {
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+strings.TrimPrefix(pathParam.ReplaceAllString(path, "x"), "/"))
		}
	}
	served := []string{"POST login"}
	for _, m := range authenticated {
		served = append(served, m.method+" "+regexp.MustCompile(`(chats|files|agents)/[a-z0-9]+`).ReplaceAllString(m.path, "$1/x"))
	}
	sort.Strings(documented)
	sort.Strings(served)
	if !slices.Equal(documented, served) {
		t.Errorf("documented methods\n%q\nwant the served ones\n%q", documented, served)
	}

	// Each documented method is routed: without a token it answers 401,
	// where an unknown one would answer 5955.
	e := newEnv(t)
	for _, m := range documented {
		method, path, _ := strings.Cut(m, " ")
		if path == "login" {
			continue
		}
		e.do(method, agentapi.Prefix+path, nil, nil).fails(t, http.StatusUnauthorized, "4010")
	}
}

func TestAnswersHaveTheFieldsTheOpenAPIDescriptionGives(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	e := newEnv(t)
	admin := e.login(root)
	a := e.login(alice)
	a.upload("PUT", "me/photo", "me.png", pngFile).ok(t, new(map[string]any))
	a.ready()
	c := e.customer(webApp)
	offered := c.requestChat()
	me := a.call("GET", "me", "").object(t)
	v := a.call("POST", "chats/"+offered+"/accept", "").object(t)
	ice := a.call("GET", "chats/"+offered+"/iceservers", "").object(t)
	a.setCase(offered, `{}`)
	a.call("POST", "chats/"+offered+"/end", "").ok(t, new(map[string]any))
	wrap := a.call("POST", "chats/"+offered+"/wrapup", `{"code":"ok"}`).object(t)
	ended := a.call("GET", "chats/"+offered, "").object(t)
	agents := admin.call("GET", "agents", "").object(t)
	history := a.call("GET", "chats/"+offered+"/casehistory", "").object(t)
	login := e.loginReply(tenant, bob, secret).object(t)
	up := a.upload("POST", "files", "a.pdf", pdfFile).object(t)
	var failure map[string]any
	a.call("GET", "chats/nope", "").decode(t, &failure)

	routingView := me["routing"].(map[string]any)
	servers, _ := ice["servers"].([]any)
	if len(servers) != 2 {
		t.Fatalf("iceservers: %v, want the STUN server and the relay", ice)
	}
	tests := []struct {
		schema string
		answer any
	}{
		{"LoginAnswer", login},
		{"MeAnswer", me},
		{"Agent", me["agent"]},
		{"RoutingView", routingView},
		{"Offer", routingView["offers"].([]any)[0]},
		{"Chat", v["chat"]},
		{"Chat", ended["chat"]},
		{"ChatAnswer", ended},
		{"WrapUp", wrap},
		{"ListedAgent", agents["agents"].([]any)[0]},
		{"CaseHistory", history},
		{"Uploaded", up},
		{"ICEServers", ice},
		{"ICEServer", servers[0]},
		{"ICEServer", servers[1]},
		{"Error", failure},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			s, ok := doc.Components.Schemas[tt.schema]
			if !ok {
				t.Fatalf("no schema %s", tt.schema)
			}
			obj, ok := tt.answer.(map[string]any)
			if !ok {
				t.Fatalf("answer %v is not an object", tt.answer)
			}
			for k := range obj {
				if _, ok := s.Properties[k]; !ok {
					t.Errorf("the answer has %q, which the schema does not describe", k)
				}
			}
			for _, k := range s.Required {
				if _, ok := obj[k]; !ok {
					t.Errorf("the answer lacks %q, which the schema requires", k)
				}
			}
		})
	}
}
