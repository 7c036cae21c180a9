package memory_test

import (
	"testing"

	"github.com/parley-chat/parley/bustest"
	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/memory"
)

func TestBusContract(t *testing.T) {
	shared := memory.New() // one process: every "node" shares the bus
	bustest.Run(t, func(t *testing.T) chat.Bus { return shared })
}
