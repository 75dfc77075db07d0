package dynlocaltest_test

import "testing/fstest"

// tinyFixtures is about the smallest fixture set the emulator takes: the five tables every set
// needs, with only the columns the development identities are written with, and a custom table.
// Its one widget row is there to be read back.
var tinyFixtures = fstest.MapFS{
	"entities/organization.json": {Data: []byte(`{
  "logicalName": "organization", "objectTypeCode": 1019, "ownership": "OrganizationOwned", "primaryName": "name",
  "omitSystemColumns": ["statecode", "statuscode"],
  "attributes": [
    {"name": "name", "type": "String", "maxLength": 160},
    {"name": "basecurrencyid", "type": "Lookup", "targets": ["transactioncurrency"]}
  ]
}`)},
	"entities/transactioncurrency.json": {Data: []byte(`{
  "logicalName": "transactioncurrency", "entitySetName": "transactioncurrencies", "objectTypeCode": 9105,
  "ownership": "OrganizationOwned", "primaryName": "currencyname",
  "attributes": [
    {"name": "currencyname", "type": "String", "maxLength": 100},
    {"name": "isocurrencycode", "type": "String", "maxLength": 5},
    {"name": "currencysymbol", "type": "String", "maxLength": 13},
    {"name": "currencyprecision", "type": "Integer"},
    {"name": "exchangerate", "type": "Decimal", "precision": 10}
  ]
}`)},
	"entities/businessunit.json": {Data: []byte(`{
  "logicalName": "businessunit", "objectTypeCode": 10, "ownership": "BusinessOwned", "primaryName": "name",
  "omitSystemColumns": ["statecode", "statuscode"],
  "attributes": [
    {"name": "name", "type": "String", "maxLength": 160},
    {"name": "parentbusinessunitid", "type": "Lookup", "targets": ["businessunit"]}
  ]
}`)},
	"entities/systemuser.json": {Data: []byte(`{
  "logicalName": "systemuser", "objectTypeCode": 8, "ownership": "BusinessOwned", "primaryName": "fullname",
  "omitSystemColumns": ["statecode", "statuscode"],
  "attributes": [
    {"name": "fullname", "type": "String", "maxLength": 200, "readOnly": true},
    {"name": "firstname", "type": "String", "maxLength": 64},
    {"name": "lastname", "type": "String", "maxLength": 64},
    {"name": "domainname", "type": "String", "maxLength": 1024},
    {"name": "internalemailaddress", "type": "String", "maxLength": 100},
    {"name": "jobtitle", "type": "String", "maxLength": 100},
    {"name": "applicationid", "type": "Uniqueidentifier"},
    {"name": "azureactivedirectoryobjectid", "type": "Uniqueidentifier"},
    {"name": "accessmode", "type": "Picklist", "options": [[0, "Read-Write"], [4, "Non-interactive"]]},
    {"name": "businessunitid", "type": "Lookup", "targets": ["businessunit"]}
  ]
}`)},
	"entities/team.json": {Data: []byte(`{
  "logicalName": "team", "objectTypeCode": 9, "ownership": "BusinessOwned", "primaryName": "name",
  "omitSystemColumns": ["statecode", "statuscode"],
  "attributes": [
    {"name": "name", "type": "String", "maxLength": 160},
    {"name": "businessunitid", "type": "Lookup", "targets": ["businessunit"]}
  ]
}`)},
	"entities/cr1a2_widget.json": {Data: []byte(`{
  "logicalName": "cr1a2_widget", "displayName": "Widget", "primaryName": "cr1a2_name",
  "attributes": [
    {"name": "cr1a2_name", "type": "String", "maxLength": 100, "required": "ApplicationRequired"},
    {"name": "cr1a2_quantity", "type": "Integer"}
  ]
}`)},
	"rows/01-cr1a2_widgets.json": {Data: []byte(`[
  {"cr1a2_widgetid": "00000000-0000-0000-0000-00000000a001", "cr1a2_name": "Sprocket", "cr1a2_quantity": 7}
]`)},
}
