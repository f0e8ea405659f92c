"""factsbot: the key messages of Facts for Life over SMS and USSD."""
