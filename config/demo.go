package config

import (
	"encoding/json"
	"time"

	"github.com/parley-chat/parley/chat"
)

// DemoTenant and DemoApp address the demo seeded on first start.
const (
	DemoTenant = "demo.parley.local"
	DemoApp    = "demo-chat"
	// DemoAgent and DemoPassword log in to the agent console of the demo.
	DemoAgent    = "demo"
	DemoPassword = "parley-demo"
)

// Demo is the configuration seeded into an empty data directory, so that a
// newcomer can chat with curl a minute after starting the server.
func Demo() *File {
	return &File{Tenants: []chat.Tenant{{
		Host: DemoTenant,
		Name: "Parley demo",
		Entries: []chat.Entry{{
			AppID: DemoApp,
			Name:  "Demo chat",
			Parameters: []chat.Parameter{
				{Name: "first_name", Type: "FIRST_NAME"},
				{Name: "last_name", Type: "LAST_NAME"},
				{Name: "email", Type: "EMAIL"},
			},
			Widgets:     json.RawMessage(demoWidgets),
			CORSOrigins: []string{"*"},
			Calls:       true,
			Forms:       true,
			AutoCase:    true,
			Inactivity:  chat.Timeouts{Warning: chat.Duration(10 * time.Minute), End: chat.Duration(15 * time.Minute)},
		}},
	}}, Agents: []AgentConfig{{
		Tenant: DemoTenant, Username: DemoAgent, Password: DemoPassword,
		FirstName: "Dana", LastName: "Demo", DisplayName: "Dana", Capacity: 3, Role: chat.RoleAdmin,
	}}}
}

const demoWidgets = `[{"name":"chat","urls":[],"definition":{"contact_tab":{"enabled":true,
"location":"bottom_right","color":"#ffffff","bg_color":"#3b5bdb","title":"Chat with us",
"greeting":"Hi! How can we help you today?","agents_available_msg":"We are online",
"agents_not_available_msg":"All our agents are busy","out_of_hours_msg":"We are closed right now",
"show_ewt_out_of_hours":false}},"styles":{"font_family":"system-ui, sans-serif"}}]`
