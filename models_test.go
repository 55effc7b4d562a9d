package blueclerk_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/blueclerk/blueclerk-go"
)

func decimalOf(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestMoneyIsExactAndAJSONNumber(t *testing.T) {
	// 0.1 + 0.2 is not 0.3 in float64; it must be here.
	sum := decimalOf("0.1").Add(decimalOf("0.2"))
	b, err := json.Marshal(blueclerk.InvoiceLineItem{ItemID: "i", Quantity: decimalOf("3"), UnitPrice: sum})
	require.NoError(t, err)
	assert.JSONEq(t, `{"itemId":"i","quantity":3,"unitPrice":0.3}`, string(b))
	assert.Contains(t, string(b), `"unitPrice":0.3}`)

	b, err = json.Marshal(blueclerk.EstimateLineItem{Description: "Labor",
		Quantity: decimalOf("2.5"), UnitPrice: decimalOf("12345678901234567890.123456789")})
	require.NoError(t, err)
	assert.Equal(t, `{"description":"Labor","quantity":2.5,"unitPrice":12345678901234567890.123456789}`, string(b))

	b, err = json.Marshal(blueclerk.InvoiceLineItem{ItemID: "i", Quantity: decimalOf("1"), UnitPrice: decimalOf("150.00")})
	require.NoError(t, err)
	assert.Equal(t, `{"itemId":"i","quantity":1,"unitPrice":150.00}`, string(b), "the scale is kept")
	b, err = json.Marshal(blueclerk.InvoiceLineItem{Quantity: decimalOf("1e3"), UnitPrice: decimalOf("-0.50")})
	require.NoError(t, err)
	assert.Equal(t, `{"itemId":"","quantity":1000,"unitPrice":-0.50}`, string(b))

	var li blueclerk.EstimateLineItem
	require.NoError(t, json.Unmarshal([]byte(`{"quantity":2,"unitPrice":"75.10"}`), &li))
	assert.True(t, li.UnitPrice.Equal(decimalOf("75.1")))
	var items []blueclerk.InvoiceLineItem
	require.NoError(t, json.Unmarshal([]byte(`[{"quantity":1e2,"unitPrice":0.000000000000000001}]`), &items))
	assert.Equal(t, "100", items[0].Quantity.String())
	assert.Equal(t, "0.000000000000000001", items[0].UnitPrice.String())
}

func TestMoneyIgnoresDecimalGlobals(t *testing.T) {
	// The decimal package's globals are left alone: with its default
	// (quoted) setting, our line items are still numbers.
	require.False(t, decimal.MarshalJSONWithoutQuotes)
	b, err := json.Marshal(blueclerk.EstimateLineItem{Quantity: decimalOf("1"), UnitPrice: decimalOf("9.99")})
	require.NoError(t, err)
	assert.JSONEq(t, `{"description":"","quantity":1,"unitPrice":9.99}`, string(b))
}

func TestDate(t *testing.T) {
	d, err := blueclerk.ParseDate("2024-02-01")
	require.NoError(t, err)
	assert.Equal(t, blueclerk.Date{Year: 2024, Month: time.February, Day: 1}, d)
	assert.Equal(t, "2024-02-01", d.String())
	assert.Equal(t, d, blueclerk.DateOf(d.In(time.FixedZone("x", -11*3600))))

	b, err := json.Marshal(struct {
		Due blueclerk.Date `json:"dueDate"`
	}{d})
	require.NoError(t, err)
	assert.Equal(t, `{"dueDate":"2024-02-01"}`, string(b))

	var empty blueclerk.Date
	require.NoError(t, json.Unmarshal([]byte(`""`), &empty), `"" is no date`)
	assert.True(t, empty.IsZero())
	for _, bad := range []string{`"2024-02-30"`, `"2024-2-1"`, `"01/02/2024"`, `20240201`, `"2024-02-01T00:00:00Z"`} {
		var got blueclerk.Date
		assert.Error(t, json.Unmarshal([]byte(bad), &got), bad)
	}
	_, err = json.Marshal(blueclerk.Date{Year: 2023, Month: 2, Day: 29})
	assert.Error(t, err)
	assert.True(t, blueclerk.Date{}.IsZero())

	var inv blueclerk.Invoice
	require.NoError(t, json.Unmarshal([]byte(`{"id":"i"}`), &inv))
	assert.True(t, inv.DueDate.IsZero())
	b, err = json.Marshal(inv)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "dueDate", "a zero date is omitted from records")
}
