package mongorstest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/wiremessage"
)

const maxMessageSize = 48 * 1000 * 1000

// conn is one client connection and its authentication state.
type conn struct {
	id    int32
	node  *node
	nc    net.Conn
	user  string // "db.name" once authenticated
	convs map[int32]*saslConv
}

func (c *Cluster) accept(n *node) {
	defer c.wg.Done()
	for {
		nc, err := n.ln.Accept()
		if err != nil {
			return
		}
		c.mu.Lock()
		if n.stopped {
			c.mu.Unlock()
			_ = nc.Close()
			continue
		}
		n.conns[nc] = struct{}{}
		c.nextConnID++
		cn := &conn{id: c.nextConnID, node: n, nc: nc, convs: map[int32]*saslConv{}}
		c.mu.Unlock()
		c.wg.Add(1)
		go c.serve(cn)
	}
}

func (c *Cluster) serve(cn *conn) {
	defer c.wg.Done()
	defer func() {
		c.mu.Lock()
		delete(cn.node.conns, cn.nc)
		c.mu.Unlock()
		_ = cn.nc.Close()
	}()
	for {
		msg, err := readMessage(cn.nc)
		if err != nil {
			return
		}
		reply, err := c.handleMessage(cn, msg)
		if err != nil {
			return // drop, hang ended, or a malformed message: close the connection
		}
		if reply == nil {
			continue // moreToCome: the client expects no answer
		}
		if _, err := cn.nc.Write(reply); err != nil {
			return
		}
	}
}

func readMessage(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	size := int32(binary.LittleEndian.Uint32(hdr[:]))
	if size < 16 || size > maxMessageSize {
		return nil, fmt.Errorf("bad message length %d", size)
	}
	msg := make([]byte, size)
	copy(msg, hdr[:])
	if _, err := io.ReadFull(r, msg[4:]); err != nil {
		return nil, err
	}
	return msg, nil
}

var errDrop = errors.New("drop connection")

// handleMessage decodes an OP_MSG or OP_QUERY command, runs it and encodes the reply in the
// same protocol.
func (c *Cluster) handleMessage(cn *conn, msg []byte) ([]byte, error) {
	_, reqID, _, opcode, rem, ok := wiremessage.ReadHeader(msg)
	if !ok {
		return nil, errors.New("bad header")
	}
	switch opcode {
	case wiremessage.OpMsg:
		cmd, moreToCome, err := parseOpMsg(rem)
		if err != nil {
			return nil, err
		}
		res, err := c.dispatch(cn, cmd, false)
		if err != nil || moreToCome {
			return nil, err
		}
		return opMsgReply(reqID, res), nil
	case wiremessage.OpQuery: //nolint:staticcheck // OP_QUERY is deprecated, but old drivers still say hello with it and the double must answer
		cmd, err := parseOpQuery(rem)
		if err != nil {
			return nil, err
		}
		res, err := c.dispatch(cn, cmd, true)
		if err != nil {
			return nil, err
		}
		return opReply(reqID, res), nil
	default:
		return nil, fmt.Errorf("unsupported opcode %v", opcode)
	}
}

func parseOpMsg(rem []byte) (bsoncore.Document, bool, error) {
	flags, rem, ok := wiremessage.ReadMsgFlags(rem)
	if !ok {
		return nil, false, errors.New("bad OP_MSG flags")
	}
	if flags&wiremessage.ChecksumPresent != 0 {
		rem = rem[:len(rem)-4]
	}
	var body bsoncore.Document
	type seq struct {
		id   string
		docs []bsoncore.Document
	}
	var seqs []seq
	for len(rem) > 0 {
		var st wiremessage.SectionType
		st, rem, ok = wiremessage.ReadMsgSectionType(rem)
		if !ok {
			return nil, false, errors.New("bad OP_MSG section")
		}
		switch st {
		case wiremessage.SingleDocument:
			body, rem, ok = wiremessage.ReadMsgSectionSingleDocument(rem)
		case wiremessage.DocumentSequence:
			var s seq
			s.id, s.docs, rem, ok = wiremessage.ReadMsgSectionDocumentSequence(rem)
			seqs = append(seqs, s)
		default:
			ok = false
		}
		if !ok {
			return nil, false, errors.New("bad OP_MSG section")
		}
	}
	if body == nil {
		return nil, false, errors.New("OP_MSG without body")
	}
	if len(seqs) > 0 {
		// Fold document sequences into the body as arrays, as mongod does.
		idx, doc := bsoncore.AppendDocumentStart(nil)
		elems, _ := body.Elements()
		for _, e := range elems {
			doc = append(doc, e...)
		}
		for _, s := range seqs {
			var aidx int32
			aidx, doc = bsoncore.AppendArrayElementStart(doc, s.id)
			for i, d := range s.docs {
				doc = bsoncore.AppendDocumentElement(doc, fmt.Sprint(i), d)
			}
			doc, _ = bsoncore.AppendArrayEnd(doc, aidx)
		}
		doc, _ = bsoncore.AppendDocumentEnd(doc, idx)
		body = doc
	}
	return slices.Clone(body), flags&wiremessage.MoreToCome != 0, nil
}

// parseOpQuery reads a legacy command: OP_QUERY on <db>.$cmd, possibly wrapped in $query.
func parseOpQuery(rem []byte) (bsoncore.Document, error) {
	_, rem, ok := wiremessage.ReadQueryFlags(rem) //nolint:staticcheck // OP_QUERY on purpose: old drivers say hello with it
	if !ok {
		return nil, errors.New("bad OP_QUERY")
	}
	ns, rem, ok := wiremessage.ReadQueryFullCollectionName(rem) //nolint:staticcheck // OP_QUERY on purpose: old drivers say hello with it
	if !ok {
		return nil, errors.New("bad OP_QUERY namespace")
	}
	_, rem, _ = wiremessage.ReadQueryNumberToSkip(rem)   //nolint:staticcheck // OP_QUERY on purpose: old drivers say hello with it
	_, rem, _ = wiremessage.ReadQueryNumberToReturn(rem) //nolint:staticcheck // OP_QUERY on purpose: old drivers say hello with it
	q, _, ok := wiremessage.ReadQueryQuery(rem)          //nolint:staticcheck // OP_QUERY on purpose: old drivers say hello with it
	if !ok {
		return nil, errors.New("bad OP_QUERY query")
	}
	if inner, err := q.LookupErr("$query"); err == nil {
		if d, ok := inner.DocumentOK(); ok {
			q = d
		}
	}
	db := ns
	if i := len(ns) - len(".$cmd"); i > 0 && ns[i:] == ".$cmd" {
		db = ns[:i]
	}
	// Give the command a $db like OP_MSG has, so dispatch treats both alike.
	idx, doc := bsoncore.AppendDocumentStart(nil)
	elems, _ := q.Elements()
	for _, e := range elems {
		doc = append(doc, e...)
	}
	doc = bsoncore.AppendStringElement(doc, "$db", db)
	doc, _ = bsoncore.AppendDocumentEnd(doc, idx)
	return doc, nil
}

func opMsgReply(respTo int32, res bson.D) []byte {
	body, err := bson.Marshal(res)
	if err != nil {
		body, _ = bson.Marshal(errorDoc(1, "InternalError", err.Error()))
	}
	idx, dst := wiremessage.AppendHeaderStart(nil, wiremessage.NextRequestID(), respTo, wiremessage.OpMsg)
	dst = wiremessage.AppendMsgFlags(dst, 0)
	dst = wiremessage.AppendMsgSectionType(dst, wiremessage.SingleDocument)
	dst = append(dst, body...)
	return bsoncore.UpdateLength(dst, idx, int32(len(dst[idx:])))
}

func opReply(respTo int32, res bson.D) []byte {
	body, err := bson.Marshal(res)
	if err != nil {
		body, _ = bson.Marshal(errorDoc(1, "InternalError", err.Error()))
	}
	idx, dst := wiremessage.AppendHeaderStart(nil, wiremessage.NextRequestID(), respTo, wiremessage.OpReply)
	dst = wiremessage.AppendReplyFlags(dst, 0)
	dst = wiremessage.AppendReplyCursorID(dst, 0)
	dst = wiremessage.AppendReplyStartingFrom(dst, 0)
	dst = wiremessage.AppendReplyNumberReturned(dst, 1)
	dst = append(dst, body...)
	return bsoncore.UpdateLength(dst, idx, int32(len(dst[idx:])))
}

func errorDoc(code int32, codeName, msg string) bson.D {
	return bson.D{
		{Key: "ok", Value: 0.0},
		{Key: "errmsg", Value: msg},
		{Key: "code", Value: code},
		{Key: "codeName", Value: codeName},
	}
}
